-- RDP backends present self-signed TLS certificates: the proxy pins each server's certificate (SHA-256
-- of the DER, as "AA:BB:…") on first use, like SSH host keys, and denies a connection on a mismatch.
ALTER TABLE servers
  ADD COLUMN rdp_cert_sha256 text CHECK (rdp_cert_sha256 ~ '^([0-9A-F]{2}:){31}[0-9A-F]{2}$'),
  ADD COLUMN rdp_cert_pinned_at timestamptz;
