"""What every domain may use and none owns: the clock, the secret box, scheduled jobs and the
domain manifest itself. Nothing here imports a domain."""
