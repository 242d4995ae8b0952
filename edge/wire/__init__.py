"""The wire contract: MQTT messages, event payload registry, local API messages and error codes."""
