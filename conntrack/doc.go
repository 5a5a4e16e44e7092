// Package conntrack is gofw's connection tracker: a user-space rendering of
// the kernel's nf_conntrack, close enough that iptables' state and conntrack
// matches and the conntrack-tools views behave as on Linux.
//
// The package is a leaf: it knows nothing of packets as bytes, of NFQUEUE or
// of rules. The engine decodes a datagram and hands in a Segment (the
// packet's Tuple plus the few header fields the trackers need); the Table
// answers with the Conn the packet belongs to and its CtInfo, as the
// kernel's nf_conntrack_in and resolve_normal_ct do.
//
// What is tracked, and how (each mirrors a kernel file):
//
//   - TCP: the full tcp_conntracks state machine, the flag check, tcp_new
//     (loose pickup), tcp_in_window window tracking, challenge-ACK and RST
//     handling and the timeout selection of nf_conntrack_proto_tcp.c.
//   - UDP and UDP-Lite: unreplied/stream timeouts and the ASSURED rules of
//     nf_conntrack_proto_udp.c.
//   - ICMP and ICMPv6: query/response entries and errors classified RELATED
//     through their embedded tuple (nf_conntrack_proto_icmp.c, _icmpv6.c,
//     nf_conntrack_inet_error); neighbour discovery and MLD are UNTRACKED.
//   - GRE without PPTP keys: the 30 s / 180 s timeouts of
//     nf_conntrack_proto_gre.c.
//   - Every other protocol, SCTP and DCCP included, with the generic
//     tracker (600 s, never ASSURED). SCTP and DCCP keep their ports in the
//     tuple but have no state machine of their own yet.
//
// The Table holds the kernel's four lists: unconfirmed entries (created by
// In, attached only to their packet), the confirmed hash (Confirm, at the
// packet's last hook), dying entries (removed but with a DESTROY event still
// owed to a listener) and expectations. It is sharded with one lock per
// shard, enforces Config.Max with the kernel's local early drop, expires
// entries lazily on lookup and incrementally in GCStep, and publishes
// NEW/UPDATE/DESTROY events to subscribers without ever blocking the packet
// path.
//
// Time is injected: every function that needs the time takes now, in
// nanoseconds of a monotonic clock chosen by the caller (Config.Clock for
// the background GC). Nothing in here calls time.Now on its own.
//
// Formatting (Entry.AppendText, AppendEvent, Stats.AppendText, JSON) is byte
// for byte what conntrack-tools 1.4.7 prints, so gofw's conntrack command
// can be a drop-in replacement.
//
// NAT bindings live here too (nat.go): SetupNAT is nf_nat_setup_info, the
// reply tuple of an unconfirmed Conn becomes the inverse of the translated
// tuple (get_unique_tuple: the port classes, the bysrc reuse, the bounded
// port search), and the engine rewrites every packet from the two tuples.
// The FTP and TFTP helpers (helper_ftp.go, helper_tftp.go) parse payloads
// handed in as bytes, fill the expectation table, rewrite commands of NATed
// connections through a Mangler the engine provides and keep the TCP
// sequence adjustment (seqadj.go); expected children are NATed by
// "follow master" when they are created.
package conntrack
