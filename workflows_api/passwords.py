"""Password hashes (PBKDF2-HMAC-SHA256) that CPython and Jython 2.7.3 both compute and verify.

Stored form: "pbkdf2_sha256$<iterations>$<salt, base64>$<hash, base64>". CPython uses hashlib.pbkdf2_hmac;
Jython 2.7.3 has no pbkdf2_hmac, so it uses the JDK's PBKDF2WithHmacSHA256 (same bytes: the JDK encodes the
password as UTF-8); anything else falls back to the RFC 8018 loop written on hmac below.
"""
import base64
import hashlib
import hmac
import os
import struct

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 120000
SALT_BYTES = 16
KEY_BYTES = 32


def _as_bytes(text):
    if isinstance(text, bytes):
        return text
    return text.encode("utf-8")


def _xor(left, right):
    return bytes(bytearray([a ^ b for a, b in zip(bytearray(left), bytearray(right))]))


def pbkdf2_python(password, salt, iterations, length=KEY_BYTES):
    """RFC 8018 PBKDF2 with HMAC-SHA256, on the standard library's hmac (the portable reference)."""
    password = _as_bytes(password)
    blocks = []
    index = 1
    while len(b"".join(blocks)) < length:
        mac = hmac.new(password, salt + struct.pack(">I", index), hashlib.sha256)
        block = last = mac.digest()
        for _ in range(iterations - 1):
            last = hmac.new(password, last, hashlib.sha256).digest()
            block = _xor(block, last)
        blocks.append(block)
        index += 1
    return b"".join(blocks)[:length]


def _pbkdf2_java(password, salt, iterations, length):
    from javax.crypto import SecretKeyFactory
    from javax.crypto.spec import PBEKeySpec

    if isinstance(password, bytes):
        password = password.decode("utf-8")
    spec = PBEKeySpec(list(password), salt, iterations, length * 8)
    try:
        return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded().tostring()
    finally:
        spec.clearPassword()


def pbkdf2(password, salt, iterations, length=KEY_BYTES):
    if hasattr(hashlib, "pbkdf2_hmac"):
        return hashlib.pbkdf2_hmac("sha256", _as_bytes(password), salt, iterations, length)
    try:
        import java.lang  # noqa: F401 - only present under Jython
    except ImportError:
        return pbkdf2_python(password, salt, iterations, length)
    return _pbkdf2_java(password, salt, iterations, length)


def _b64(raw):
    return base64.b64encode(raw).decode("ascii")


def hash_password(password, iterations=ITERATIONS):
    salt = os.urandom(SALT_BYTES)
    return "%s$%d$%s$%s" % (ALGORITHM, iterations, _b64(salt), _b64(pbkdf2(password, salt, iterations)))


def verify_password(password, stored):
    """True when `password` matches the stored hash; False for any malformed stored value."""
    try:
        algorithm, iterations, salt, expected = stored.split("$")
        if algorithm != ALGORITHM:
            return False
        salt = base64.b64decode(salt)
        expected = base64.b64decode(expected)
        actual = pbkdf2(password, salt, int(iterations), len(expected))
    except (ValueError, TypeError, AttributeError):
        return False
    return equal(actual, expected)


def equal(left, right):
    """Constant-time comparison of two byte or text strings (hmac.compare_digest is missing in Jython 2.7.3)."""
    left = bytearray(_as_bytes(left))
    right = bytearray(_as_bytes(right))
    result = len(left) ^ len(right)
    for a, b in zip(left, right if len(left) == len(right) else left):
        result |= a ^ b
    return result == 0


def sha256_hex(text):
    return hashlib.sha256(_as_bytes(text)).hexdigest()
