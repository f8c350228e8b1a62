//go:build unix

package caption

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on a records file so that two
// runs cannot interleave records into it. The kernel drops the lock when the
// process dies, however it dies.
func lockFile(f *os.File) (func(), error) {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errors.New("another caption run is writing this file")
		}
		return func() {}, nil // no locking on this file system: go on unlocked
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }, nil
}
