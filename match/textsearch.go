package match

// This file is the part of the kernel's lib/textsearch that xt_string uses:
// the Boyer-Moore (ts_bm.c) and Knuth-Morris-Pratt (ts_kmp.c) searches over
// a linear buffer, with the kernel's case folding. Both find the first
// occurrence; they are kept apart because the kernel's Boyer-Moore, with
// --icase, can step over an occurrence that Knuth-Morris-Pratt finds (see
// prepareBM), and a rule must behave as it does on Linux.

// Kernel ctype classes (lib/ctype.c) that the case folding needs: the
// kernel's table covers Latin-1, where 192-214 and 216-222 are upper case
// and 223-246 and 248-255 lower case (223, ß, included, so toupper(ß) is
// 191 and toupper(ÿ) is 223).
var ctypeUpper, ctypeLower [256]byte

func init() {
	for c := 0; c < 256; c++ {
		up, low := byte(c), byte(c)
		switch {
		case c >= 'a' && c <= 'z', c >= 223 && c <= 246, c >= 248:
			up = byte(c - 32) // the kernel's __toupper: c -= 'a'-'A'
		case c >= 'A' && c <= 'Z', c >= 192 && c <= 214, c >= 216 && c <= 222:
			low = byte(c + 32)
		}
		ctypeUpper[c], ctypeLower[c] = up, low
	}
}

// textSearch is a prepared search (struct ts_config with its ts_bm or
// ts_kmp private part). It is read-only once prepared.
type textSearch struct {
	pat   []byte // upper-cased when icase, as bm_init and kmp_init store it
	icase bool
	kmp   bool
	// Knuth-Morris-Pratt: prefix[q] is the length of the longest proper
	// prefix of pat[:q+1] that is also its suffix.
	prefix []int
	// Boyer-Moore: the shift for a mismatching text byte, and the shift
	// after i bytes matched from the end of the pattern.
	bad  [256]int
	good []int
}

// prepareTextSearch is textsearch_prepare for "bm" and "kmp"; nil for any
// other algorithm (Check refuses those) or an empty pattern.
func prepareTextSearch(algo string, pattern []byte, icase bool) *textSearch {
	if len(pattern) == 0 || (algo != "bm" && algo != "kmp") {
		return nil
	}
	ts := &textSearch{pat: make([]byte, len(pattern)), icase: icase, kmp: algo == "kmp"}
	for i, c := range pattern {
		if icase {
			c = ctypeUpper[c]
		}
		ts.pat[i] = c
	}
	if ts.kmp {
		ts.prepareKMP()
	} else {
		ts.prepareBM()
	}
	return ts
}

// find returns the offset of the first occurrence of the pattern in text,
// or -1.
//
// Called for every packet; must not allocate.
func (ts *textSearch) find(text []byte) int {
	if ts.kmp {
		return ts.findKMP(text)
	}
	return ts.findBM(text)
}

// fold is the byte the search compares: upper-cased with --icase.
func (ts *textSearch) fold(c byte) byte {
	if ts.icase {
		return ctypeUpper[c]
	}
	return c
}

// prepareKMP is ts_kmp.c compute_prefix_tbl.
func (ts *textSearch) prepareKMP() {
	p := ts.pat
	ts.prefix = make([]int, len(p))
	k := 0
	for q := 1; q < len(p); q++ {
		for k > 0 && p[k] != p[q] {
			k = ts.prefix[k-1]
		}
		if p[k] == p[q] {
			k++
		}
		ts.prefix[q] = k
	}
}

// findKMP is ts_kmp.c kmp_find on one block.
func (ts *textSearch) findKMP(text []byte) int {
	p, q := ts.pat, 0
	for i, c := range text {
		c = ts.fold(c)
		for q > 0 && p[q] != c {
			q = ts.prefix[q-1]
		}
		if p[q] == c {
			q++
		}
		if q == len(p) {
			return i + 1 - len(p)
		}
	}
	return -1
}

// prepareBM is ts_bm.c compute_prefix_tbl. The bad-character table is
// indexed by the raw text byte and holds, with --icase, the upper-cased
// pattern byte and its kernel tolower only: a text byte that folds to a
// pattern byte by another way (ß and ÿ, whose toupper is not the inverse
// of a tolower) takes the full shift, so the kernel's Boyer-Moore can
// miss such an occurrence. gofw keeps that, as it keeps the kernel's
// good-suffix table (subpattern) as computed there.
func (ts *textSearch) prepareBM() {
	p := ts.pat
	n := len(p)
	for i := range ts.bad {
		ts.bad[i] = n
	}
	for i := 0; i < n-1; i++ {
		ts.bad[p[i]] = n - 1 - i
		if ts.icase {
			ts.bad[ctypeLower[p[i]]] = n - 1 - i
		}
	}
	ts.good = make([]int, n)
	ts.good[0] = 1
	for g := 1; g < n; g++ {
		ts.good[g] = n
	}
	for i, g := n-1, 1; i > 0; i, g = i-1, g+1 {
		for j := i - 1; j >= 1-g; j-- {
			if bmSubpattern(p, i, j, g) {
				ts.good[g] = n - j - g
				break
			}
		}
	}
}

// bmSubpattern is ts_bm.c subpattern: whether the g bytes ending the
// pattern at i+g-1 reappear ending at j+g-1 (running off the start of the
// pattern counts as a match) and, when the whole of them fits, are
// preceded by a different byte.
func bmSubpattern(p []byte, i, j, g int) bool {
	x, y := i+g-1, j+g-1
	for {
		eq := p[x] == p[y]
		x, y = x-1, y-1
		if !eq {
			return false
		}
		if y < 0 {
			return true
		}
		if g--; g == 0 {
			return p[i-1] != p[j-1]
		}
	}
}

// findBM is ts_bm.c bm_find on one block: compare from the end of the
// pattern, then move by the larger of the bad-character and good-suffix
// shifts.
func (ts *textSearch) findBM(text []byte) int {
	p := ts.pat
	n := len(p)
	for shift := n - 1; shift < len(text); {
		i := 0
		for i < n && ts.fold(text[shift-i]) == p[n-1-i] {
			i++
		}
		if i == n {
			return shift - (n - 1)
		}
		shift = max(shift-i+ts.bad[text[shift-i]], shift+ts.good[i])
	}
	return -1
}
