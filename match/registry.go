package match

// registry lists every match extension gofw knows, one line each. A name not
// listed here is refused as iptables refuses a match it cannot load.
var registry = []*Info{
	// extensions: keep one per line, sorted by name
	addrtypeInfo,
	commentInfo,
	connlimitInfo,
	connmarkInfo,
	conntrackInfo,
	dscpInfo,
	hashlimitInfo,
	icmpInfo,
	iprangeInfo,
	lengthInfo,
	limitInfo,
	macInfo,
	markInfo,
	multiportInfo,
	ownerInfo,
	pkttypeInfo,
	recentInfo,
	stateInfo,
	statisticInfo,
	stringInfo,
	tcpInfo,
	tosInfo,
	ttlInfo,
	udpInfo,
}
