//go:build !amd64 && !arm64

package seccomp

func nativeArch() (arch, bool) { return arch{}, false }
