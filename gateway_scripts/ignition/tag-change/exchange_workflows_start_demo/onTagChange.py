def onTagChange(initialChange, newValue, previousValue, event, executionCount):
	# Example (disabled until you enable it and point it at your tag): start demo.quick once the tag has stopped
	# changing for 2 seconds (a chattering level switch starts one run, not one per change), or 30 seconds after
	# the first change of a burst at the latest, with the value of the last change. startDebouncedInMemory does no
	# database I/O on the tag event thread; a hard crash of the gateway loses a burst that has not started yet.
	if initialChange or newValue is None:
		return
	tagPath = str(event.tagPath)
	resp = exchange.workflows.api.service.startDebouncedInMemory(
		workflowName="demo.quick",
		debounceKey=tagPath,
		quietSeconds=2,
		maxWaitSeconds=30,
		inputs={"resolved": {"paramOne": tagPath, "paramTwo": str(newValue.value)}},
		queueName="default",
		partitionKey=tagPath,
	)
	if not resp["ok"]:
		system.util.getLogger("exchange.workflows.tags").warn("%s: %s" % (resp["code"], resp["message"]))
