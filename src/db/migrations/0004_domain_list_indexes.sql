-- Newest-first keyset pagination of GET /v1/payments and /v1/signature-requests:
-- ORDER BY created_at DESC, id DESC, optionally filtered by integration.
create index payments_created_idx on payments (created_at, id);
create index payments_integration_created_idx on payments (integration_key, created_at, id);
create index signature_requests_created_idx on signature_requests (created_at, envelope_id);
create index signature_requests_integration_created_idx on signature_requests (integration_key, created_at, envelope_id);
