"""The edge daemon of a police station box: durable outbox, MQTT uplink, devices, local API."""
