package match

import "testing"

// TestMultiport checks the multiport match row by row against iptables-legacy
// 1.8.9: the rule as -S saves it, the -L and -L -n texts, or the error.
func TestMultiport(t *testing.T) {
	xoCheck(t, []xoRow{
		{``, ``, `-p tcp -m multiport --sports 53,1024:65535`, `-p tcp -m multiport --sports 53,1024:65535`, ` multiport sports domain,1024:65535`, ` multiport sports 53,1024:65535`, ``},
		{``, ``, `-p udp -m multiport --ports 53,1024:65535`, `-p udp -m multiport --ports 53,1024:65535`, ` multiport ports domain,1024:65535`, ` multiport ports 53,1024:65535`, ``},
		{``, ``, `-p sctp -m multiport --dports 53,1024:65535`, `-p sctp -m multiport --dports 53,1024:65535`, ` multiport dports 53,1024:65535`, ` multiport dports 53,1024:65535`, ``},
		{``, ``, `-p dccp -m multiport --sports 53,1024:65535`, `-p dccp -m multiport --sports 53,1024:65535`, ` multiport sports 53,1024:65535`, ` multiport sports 53,1024:65535`, ``},
		{``, ``, `-p udplite -m multiport --dports 53,1024:65535`, `-p udplite -m multiport --dports 53,1024:65535`, ` multiport dports 53,1024:65535`, ` multiport dports 53,1024:65535`, ``},
		{``, ``, `-p tcp -m multiport ! --dports 1,2:3`, `-p tcp -m multiport ! --dports 1,2:3`, ` multiport dports  !tcpmux,2:3`, ` multiport dports  !1,2:3`, ``},
		{``, ``, `-p tcp -m multiport --ports 80,443,8000:8080`, `-p tcp -m multiport --ports 80,443,8000:8080`, ` multiport ports http,https,8000:http-alt`, ` multiport ports 80,443,8000:8080`, ``},
		{``, ``, `-p tcp -m multiport --destination-ports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15`, `-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15`, ` multiport dports tcpmux,2,3,4,5,6,echo,8,discard,10,systat,12,daytime,14,netstat`, ` multiport dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15`, ``},
		{``, ``, `-p tcp -m multiport --source-ports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15`, `-p tcp -m multiport --sports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15`, ` multiport sports tcpmux:2,3:4,5:6,echo:8,discard:10,systat:12,daytime:14,netstat`, ` multiport sports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15`, ``},
		{``, ``, `-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14:15`, `-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14:15`, ` multiport dports tcpmux,2,3,4,5,6,echo,8,discard,10,systat,12,daytime,14:netstat`, ` multiport dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14:15`, ``},
		{``, ``, `-p tcp -m multiport --dports 0x10`, `-p tcp -m multiport --dports 16`, ` multiport dports 16`, ` multiport dports 16`, ``},
		{``, ``, `-p tcp -m multiport --dports ssh,http`, `-p tcp -m multiport --dports 22,80`, ` multiport dports ssh,http`, ` multiport dports 22,80`, ``},
		{``, ``, `-p udp -m multiport --dports domain`, `-p udp -m multiport --dports 53`, ` multiport dports domain`, ` multiport dports 53`, ``},
		{``, ``, `-p tcp -m multiport --dports 22,22`, `-p tcp -m multiport --dports 22,22`, ` multiport dports ssh,ssh`, ` multiport dports 22,22`, ``},
		{``, ``, `-p 6 -m multiport --dports 1`, `-p tcp -m multiport --dports 1`, ` multiport dports tcpmux`, ` multiport dports 1`, ``},
		{``, ``, `-p tcp -m multiport --dports 1 --sports 2`, ``, ``, ``, `multiport: option "--source-ports" cannot be used together with "--destination-ports".`}, // rc 2
		{``, ``, `-p tcp -m multiport --dports 1 --ports 2`, ``, ``, ``, `multiport: option "--destination-ports" cannot be used together with "--ports".`},         // rc 2
		{``, ``, `-p tcp -m multiport --sports 1 --dports 2`, ``, ``, ``, `multiport: option "--source-ports" cannot be used together with "--destination-ports".`}, // rc 2
		{``, ``, `-p tcp -m multiport --dports 4:3`, ``, ``, ``, `invalid portrange specified`},                                                                     // rc 2
		{``, ``, `-p tcp -m multiport --dports 22:22`, ``, ``, ``, `invalid portrange specified`},                                                                   // rc 2
		{``, ``, `-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16`, ``, ``, ``, `too many ports specified`},                                     // rc 2
		{``, ``, `-p tcp -m multiport --dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16`, ``, ``, ``, `too many ports specified`},                                     // rc 2
		{``, ``, `-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15:16`, ``, ``, ``, `too many ports specified`},                                     // rc 2
		{``, ``, `-p tcp -m multiport --dports :`, ``, ``, ``, "invalid port/service `' specified"},                                                                 // rc 2
		{``, ``, `-p tcp -m multiport --dports 1,`, ``, ``, ``, "invalid port/service `' specified"},                                                                // rc 2
		{``, ``, `-p tcp -m multiport --dports ,1`, ``, ``, ``, "invalid port/service `' specified"},                                                                // rc 2
		{``, ``, `-p tcp -m multiport --dports 1:2:3`, ``, ``, ``, "invalid port/service `2:3' specified"},                                                          // rc 2
		{``, ``, `-p tcp -m multiport --sports 1024:65536`, ``, ``, ``, "invalid port/service `65536' specified"},                                                   // rc 2
		{``, ``, `-p udp -m multiport --dports 65536`, ``, ``, ``, "invalid port/service `65536' specified"},                                                        // rc 2
		{``, ``, `-p icmp -m multiport --dports 1`, ``, ``, ``, `multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP`},                                       // rc 2
		{``, ``, `! -p tcp -m multiport --dports 1`, ``, ``, ``, `multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP`},                                      // rc 2
		{``, ``, `-p tcp -m multiport`, ``, ``, ``, `multiport expection an option`},                                                                                // rc 2
		{``, ``, `-m multiport --dports 1`, ``, ``, ``, "multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'"},                                 // rc 2
		{``, ``, `-p tcp -m multiport --dports 1 --destination-ports 2`, ``, ``, ``, `multiport: option "--destination-ports" can only be used once.`},              // rc 2
	})
}

// TestMultiportUpstream checks where gofw follows iptables 1.8.9 against
// what one might expect; each row says why.
func TestMultiportUpstream(t *testing.T) {
	xoCheck(t, []xoRow{
		// iptables checks -p when it parses --dports, so a -p that comes
		// later does not count (checked with iptables-legacy 1.8.9: rc 2).
		{``, ``, `-m multiport --dports 1 -p tcp`, ``, ``, ``, "multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'"},
	})
}
