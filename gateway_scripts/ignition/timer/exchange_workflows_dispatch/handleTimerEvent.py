def handleTimerEvent():
	# exchange.workflows dispatcher tick (fixed delay, 1000 ms, dedicated thread): make in-memory starts
	# durable, adopt and recover runs, claim queued work and hand it to the workers. After a project save
	# this is the first call of the new scripts: it starts their generation.
	resp = exchange.workflows.api.service.dispatch()
	if not resp["ok"]:
		system.util.getLogger("exchange.workflows.timer").debug("dispatch: %s %s" % (resp["code"], resp["message"]))
