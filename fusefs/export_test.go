package fusefs

// DropKernelCache makes the kernel forget p and everything under it, as if
// it had never been looked up: benchmarks use it to measure cold calls.
func (s *Server) DropKernelCache(p string) {
	s.invalidateNode(p, true)
	s.invalidateEntry(p)
}

// UserAllowOther is userAllowOther, for the tests of a user's mount.
var UserAllowOther = userAllowOther
