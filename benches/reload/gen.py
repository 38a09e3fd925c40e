#!/usr/bin/env python3
"""The reload bench's config: the load bench's layout (argv[1]) with info logs, plus 1M DIDs
on one IP server, 10k IP-auth carriers (half with an extra /24) and 10k IP servers."""
import sys

DIDS = 1_000_000
PEERS = 10_000

out = sys.stdout
base = open(sys.argv[1]).read().replace('level = "warn"', 'level = "info"')
out.write(base)
for i in range(PEERS):
    a, b = divmod(i, 256)
    out.write(f'\n[[carriers]]\nname = "c{i}"\nhostname = "10.{a}.{b}.1"\nkeep_alive = false\n')
    if i % 2:
        out.write(f'additional_ips = "172.{16 + a}.{b}.0/24"\n')
out.write('\n[[connectivity]]\naccount_id = "reload-bench"\n')
for i in range(PEERS):
    a, b = divmod(i, 256)
    out.write(f'[[connectivity.servers]]\nname = "s{i}"\n[connectivity.servers.auth]\n'
              f'auth_method = "ip"\nip = "11.{a}.{b}.1"\n')
out.write('[[connectivity.servers]]\nname = "dids"\n[connectivity.servers.auth]\n'
          'auth_method = "ip"\nip = "12.0.0.1"\n[connectivity.servers.DIDs]\n')
out.write("".join(f'"+1628{i:07d}" = {{}}\n' for i in range(DIDS)))
