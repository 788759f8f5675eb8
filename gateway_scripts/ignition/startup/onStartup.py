def onStartup():
	# exchange.workflows: start executing workflows on this gateway (see the README of exchange.workflows, Install in Ignition).
	# database: the name of the PostgreSQL database connection of this gateway.
	# modules: the project library modules that define your workflows (importing one registers its
	# @workflow functions); keep the demo while you try things out.
	resp = exchange.workflows.api.admin.startGateway(
		database="Workflows",
		modules=["exchange.workflows.demo.workflows"],
		workers=8,
	)
	logger = system.util.getLogger("exchange.workflows.gateway")
	if resp["ok"]:
		logger.info("startGateway: %s" % resp["message"])
	else:
		logger.error("startGateway failed (%s): %s" % (resp["code"], resp["message"]))
