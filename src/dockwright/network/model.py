"""Network domain values (snake_case; Docker's JSON shape lives in the api package)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Network:
    """A network record: what to build on the host and how to address its endpoints."""

    id: str
    name: str
    driver: str  # bridge, macvlan, ipvlan; host and null for the predefined host and none
    bridge: str  # the host bridge device ("" for macvlan and ipvlan)
    subnet: str  # CIDR, e.g. 10.213.4.0/24
    gateway: str  # the bridge's address inside the subnet
    created: float = 0.0
    ip_range: str = ""
    internal: bool = False
    mtu: int = 1500
    options: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    default: bool = False  # the daemon's default network (name "bridge")
    subnet6: str = ""  # the IPv6 pool of a dual-stack network ("" without IPv6)
    gateway6: str = ""
    ip_range6: str = ""
    # the parent link a macvlan/ipvlan network made itself (a dummy, or an 802.1q `eth0.10`)
    # and removes with the network; "" when the parent was already there
    made_parent: str = ""

    @property
    def ipv6(self) -> bool:
        return bool(self.subnet6)

    @property
    def icc(self) -> bool:
        """Whether its containers may talk to each other (enable_icc, true unless "false")."""
        return self.options.get("com.docker.network.bridge.enable_icc", "true") != "false"


@dataclass(frozen=True)
class PortMapping:
    """One published port: host_ip:host_port/proto → the container's port."""

    proto: str  # tcp | udp
    container_port: int
    host_ip: str  # "" means every host address
    host_port: int


@dataclass(frozen=True)
class Endpoint:
    """A container's attachment to one network."""

    id: str
    network_id: str
    container_id: str
    container_name: str
    host_ifname: str  # the veth end on the host bridge ("" for a macvlan/ipvlan child)
    ip: str
    prefixlen: int
    gateway: str
    mac: str
    ports: tuple[PortMapping, ...] = ()
    aliases: tuple[str, ...] = ()
    static_ip: str = ""  # the address the user asked for (IPAMConfig), "" when allocated
    ifname: str = "eth0"  # inside the container
    default_route: bool = True  # the container's default route goes through this gateway
    ip6: str = ""  # on a dual-stack network; "" otherwise
    prefixlen6: int = 0
    gateway6: str = ""
    static_ip6: str = ""


@dataclass(frozen=True)
class NetworkCreate:
    """A request for a user-defined network (POST /networks/create)."""

    name: str
    driver: str = "bridge"
    subnet: str = ""
    gateway: str = ""
    ip_range: str = ""
    internal: bool = False
    options: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    enable_ipv6: bool = False
    subnet6: str = ""
    gateway6: str = ""
    ip_range6: str = ""


@dataclass(frozen=True)
class Wanted:
    """A network a container is configured to join at each start, beyond its NetworkMode's
    (network connect), or the endpoint settings (static address, aliases) for that one."""

    container_id: str
    network_id: str
    ip: str = ""
    aliases: tuple[str, ...] = ()
    created: float = 0.0
    ip6: str = ""
