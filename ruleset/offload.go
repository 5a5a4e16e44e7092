package ruleset

import "fmt"

// flowInvariant lists the matches whose answer is the same for every
// ESTABLISHED packet of one direction of a TCP connection, given that
// nothing in the ruleset changes the connection's mark: addresses, ports,
// interfaces, owners, the connection's state. A match not listed may
// answer differently from one packet to the next (length, limit, time,
// TTL, a packet mark another program sets, ...). The two listed with
// options that are not invariant say so themselves (FlowInvariant).
var flowInvariant = map[string]bool{
	"tcp": true, "udp": true, "icmp": true, "multiport": true, "iprange": true,
	"comment": true, "state": true, "conntrack": true, "mac": true,
	"addrtype": true, "owner": true, "pkttype": true, "connmark": true,
}

// offloadTargets are the targets that decide nothing but the verdict (or
// only which packets a connection tracks, in raw): a packet they do not
// see is not treated differently. LOG, MARK, CONNMARK, NFQUEUE and the
// packet-rewriting targets act on every packet, so they are not here.
var offloadTargets = map[string]bool{"REJECT": true, "CT": true, "NOTRACK": true}

// OffloadBlocker returns why gofwd's fast path may not leave this
// ruleset's established TCP connections to the kernel, or "" if it may.
// The fast path is sound only when a connection's packets after the first
// accepted ones in each direction would all get the same verdict, and
// nothing the ruleset does to a packet (mark, log, hand-off, rewrite) is
// lost when gofw no longer sees it: every rule of raw, mangle, filter and
// security must use flow-invariant matches and targets only. The nat
// table is not walked for established packets, and connections with a
// NAT binding are never offloaded (datapath).
func (rs *Ruleset) OffloadBlocker() string {
	for _, t := range rs.Tables() {
		if t.Name == "nat" {
			continue
		}
		for _, c := range t.Chains() {
			for i, r := range c.Rules {
				where := fmt.Sprintf("%s %s rule %d", t.Name, c.Name, i+1)
				for _, m := range r.Matches {
					if !flowInvariant[m.Info.Name] {
						return fmt.Sprintf("%s: -m %s can answer differently for packets of one connection", where, m.Info.Name)
					}
					if fi, ok := m.M.(interface{ FlowInvariant() bool }); ok && !fi.FlowInvariant() {
						return fmt.Sprintf("%s: -m %s with options that test each packet (TCP flags or options, --ctexpire)", where, m.Info.Name)
					}
				}
				switch r.Kind {
				case KindQueue:
					return where + ": -j QUEUE hands every packet to another program"
				case KindExt:
					if !offloadTargets[r.TargetInfo.Name] {
						return fmt.Sprintf("%s: -j %s acts on every packet", where, r.TargetInfo.Name)
					}
				}
			}
		}
	}
	return ""
}
