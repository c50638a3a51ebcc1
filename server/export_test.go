package server

// SetLatestCacheOff serves every latest answer uncached (or cached again),
// for the external tests that compare both.
func SetLatestCacheOff(s *Server, off bool) { s.latest.off = off }
