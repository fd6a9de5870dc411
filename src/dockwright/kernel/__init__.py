"""dockwright.kernel: the only code that touches the OS directly (no helper processes).

mount       mount/umount through libc, overlayfs with any number of layers, the mount table
cgroups     cgroup hierarchies, the hybrid-layout fix crun needs, pids, removal
cgroup_stats  a container's usage from its v1 controllers (docker stats)
caps        capability names and this process's bounding set
devices     host device nodes (privileged containers)
paths       resolving paths inside a rootfs without escaping it
procs       pidfd waits for processes that are not our children
inotify     waiting for a file to change (logs -f)
fakes       recording fakes for unit tests of callers
"""
