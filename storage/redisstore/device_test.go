package redisstore_test

import (
	"testing"

	"user-registry/storage"
	"user-registry/storage/storagetest"
)

func TestDeviceConformance(t *testing.T) {
	testURL(t)
	storagetest.RunDevice(t, func(t *testing.T, clock *storagetest.Clock) storage.DeviceStore {
		s, _ := openTest(t, clock.Now)
		return s
	})
}
