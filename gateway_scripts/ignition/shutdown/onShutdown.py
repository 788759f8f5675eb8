def onShutdown():
	# exchange.workflows: stop claiming work, let running steps finish and hand their runs back
	# (another gateway, or this one after its restart, continues them from their checkpoints).
	resp = exchange.workflows.api.admin.stopGateway()
	system.util.getLogger("exchange.workflows.gateway").info("stopGateway: %s" % resp["message"])
