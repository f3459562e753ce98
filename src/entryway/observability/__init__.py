"""Operations: request IDs, structured JSON logs, Prometheus metrics, readiness."""
