package configs

import "github.com/sparsesim/sparsesim/workloads/kvsparse"

// KVSparsity selects which keys and values an LLM decode step reads
// (docs/kv-sparsity.md, docs/config.md). The workload owns the type, its
// defaults and its validation (workloads/kvsparse/params.go), as
// workloads/actsparse owns activation_sparsity; the aliases keep the
// configs names.
type KVSparsity = kvsparse.Params

// KV-cache sparsity methods (docs/kv-sparsity.md).
const (
	KVNone           = kvsparse.MethodNone
	KVEvict          = kvsparse.MethodEvict
	KVQuest          = kvsparse.MethodQuest
	KVDoubleSparsity = kvsparse.MethodDoubleSparsity
	KVDSA            = kvsparse.MethodDSA
	KVHISA           = kvsparse.MethodHISA
	KVMustafar       = kvsparse.MethodMustafar
)

// KVMethods lists the methods in the order documentation gives them.
var KVMethods = kvsparse.Methods

// KVSetup is what a kv-sparsity plan reads of the configuration: the
// kv_sparsity block and the machine numbers its lowering needs.
func (c *Config) KVSetup() kvsparse.Setup {
	return kvsparse.Setup{Params: c.KVSparsity, KVBits: KVDTypeBits[c.KVCache.DType], WordBytes: c.WordBytes(),
		FilterBytes: int64(c.Buffers.FilterKB * 1024), RequestBytes: int64(c.DRAM.RequestBytes)}
}
