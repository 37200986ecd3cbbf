"""Service core, alerts: what raises one (the durable outbox), webhook delivery and the egress
policy its targets obey."""
