"""The durable event path: outbox (fsync before accept), relay (lanes, window, acks) and MQTT uplink."""
