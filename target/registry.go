package target

// registry lists every target extension gofw knows, one line each. A -j
// naming neither one of these, a standard verdict nor an existing chain is
// refused as iptables refuses a target it cannot load.
var registry = []*Info{
	// extensions: keep one per line, sorted by name
	checksumInfo,
	connmarkInfo,
	ctInfo,
	dnatInfo,
	logInfo,
	markInfo,
	masqueradeInfo,
	nflogInfo,
	nfqueueInfo,
	notrackInfo,
	redirectInfo,
	rejectInfo,
	snatInfo,
	tcpmssInfo,
}
