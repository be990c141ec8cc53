package memstore_test

import (
	"testing"

	"user-registry/storage"
	"user-registry/storage/memstore"
	"user-registry/storage/storagetest"
)

func TestDeviceConformance(t *testing.T) {
	storagetest.RunDevice(t, func(_ *testing.T, clock *storagetest.Clock) storage.DeviceStore {
		return memstore.New(memstore.WithClock(clock.Now))
	})
}

func BenchmarkDevicePoll(b *testing.B) {
	storagetest.BenchDevicePoll(b, memstore.New())
}
