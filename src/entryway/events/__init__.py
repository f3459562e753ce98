"""Events (a durable outbox written in the transaction of each change) and their webhook delivery."""
