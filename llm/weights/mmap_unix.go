//go:build unix

package weights

import (
	"math"
	"os"
	"syscall"
)

// mapFile maps path read-only. The returned release unmaps it.
func mapFile(path string) ([]byte, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, &Error{File: path, Msg: err.Error(), Kind: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, &Error{File: path, Msg: err.Error(), Kind: err}
	}
	if !st.Mode().IsRegular() {
		return nil, nil, newErr(path, ErrFormat, "not a regular file")
	}
	size := st.Size()
	if size == 0 {
		return nil, nil, newErr(path, ErrFormat, "empty file")
	}
	if size > math.MaxInt {
		return nil, nil, newErr(path, ErrFormat, "file too large to map (%d bytes)", size)
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, newErr(path, err, "mmap: %v", err)
	}
	return b, func() error { return syscall.Munmap(b) }, nil
}
