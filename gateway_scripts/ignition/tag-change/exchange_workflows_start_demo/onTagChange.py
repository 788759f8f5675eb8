def onTagChange(initialChange, newValue, previousValue, event, executionCount):
	# Example (disabled until you enable it and point it at your tag): start demo.quick when the tag turns
	# true. enqueueInMemory does no database I/O on the tag event thread: it answers at once and the next
	# dispatch tick makes the start durable.
	if initialChange or newValue is None or not newValue.value:
		return
	if previousValue is not None and previousValue.value:
		return
	tagPath = str(event.tagPath)
	resp = exchange.workflows.api.service.enqueueInMemory(
		workflowName="demo.quick",
		inputs={"resolved": {"paramOne": tagPath, "paramTwo": "AUTO"}},
		queueName="default",
		partitionKey=tagPath,
	)
	if not resp["ok"]:
		system.util.getLogger("exchange.workflows.tags").warn("%s: %s" % (resp["code"], resp["message"]))
