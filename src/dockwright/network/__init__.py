"""dockwright.network: bridge, macvlan and ipvlan networks (a driver: imports kernel, store, types).

model       frozen values: Network, Endpoint, PortMapping, NetworkCreate, Wanted
ipam        pure address allocation inside a subnet; subnet choice that avoids the host's routes
ipam6       pure IPv6 allocation for dual-stack networks; unique-local /64s when none is given
ports       pure: Docker's PortBindings/ExposedPorts/PublishAllPorts → port mappings
nftrules    pure: the daemon's nftables tables (ip, ip6, bridge) as one `nft -f` script
naming      pure: device, table and MAC names derived from ids and the daemon instance
defaults    pure: records of the default and of user-defined networks
endpoints   pure: a container's endpoint from the allocations held; /etc/hosts patching
filters     pure: Docker's network list filters
dnswire     pure: DNS queries and answers on the wire
resolvconf  pure: resolv.conf pointed at the embedded resolver
records     networks, endpoints and wanted attachments in state.db
bridge      plans (operations as data) and the executor that applies them over kernel.netlink(_ext)
vlan        pure: macvlan/ipvlan records (parent, mode, a parent they make) and their plans
plans       pure: which driver's plan builds, joins, leaves or removes a network
dns         the embedded resolver: UDP sockets inside container netns, served by the event loop
resolvers   which containers get a resolver and what it answers, from the records
"""
