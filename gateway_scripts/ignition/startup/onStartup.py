def onStartup():
	# exchange.workflows: start executing workflows on this gateway (see docs/ignition.md of exchange.workflows).
	# database: the name of the PostgreSQL database connection of this gateway.
	# modules: the project library modules that define your workflows (importing one registers its
	# @workflow functions); keep the demo while you try things out.
	# Optional: executorId, workers, leaseSeconds, maxRecoveryAttempts (their defaults suit one gateway).
	resp = exchange.workflows.api.admin.startGateway(
		database="Workflows",
		modules=["exchange.workflows.demo.workflows"],
	)
	logger = system.util.getLogger("exchange.workflows.gateway")
	if resp["ok"]:
		logger.info("startGateway: %s" % resp["message"])
	else:
		logger.error("startGateway failed (%s): %s" % (resp["code"], resp["message"]))
