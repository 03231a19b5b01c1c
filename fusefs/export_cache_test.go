package fusefs

// HideKernelFeatures makes mounts made until restore is called behave as
// on a kernel that does not offer the given INIT flags (fuse.CAP_*).
func HideKernelFeatures(flags uint64) (restore func()) {
	old := hiddenKernelFeatures.Swap(flags)
	return func() { hiddenKernelFeatures.Store(old) }
}
