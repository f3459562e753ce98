"""Key material: sealing private keys under the master key, and the signing keys loaded once per process."""
