package kvsparse

// Storage is what a method keeps in DRAM for a cache of Tokens tokens per
// sequence, in bytes by kind, beside the dense cache's K/V: the footprint
// the method's metadata, label cache and index keys add, and what
// eviction and pruning save.
type Storage struct {
	Tokens     int   `json:"tokens"`
	KV         int64 `json:"kv"`
	Metadata   int64 `json:"metadata"`
	LabelCache int64 `json:"label_cache"`
	Indexer    int64 `json:"indexer"`
	DenseKV    int64 `json:"dense_kv"`
}

// Total is every byte the method stores.
func (s Storage) Total() int64 { return s.KV + s.Metadata + s.LabelCache + s.Indexer }

// Storage is the method's footprint at the end of the decode (prompt +
// decode steps tokens per sequence) for batch sequences, every layer:
//   - K/V: 2 · kv · head_dim words per token (evict: the budget slots;
//     mustafar: the kept values only);
//   - metadata: quest's min and max per page (2 · head_dim words per KV
//     head and page), mustafar's bitmaps (one bit per K and V element);
//   - label cache: channels words per KV head and token;
//   - indexer: index_dim · index_bits/8 bytes per token, and for hisa one
//     pooled key per block.
func (pl *Plan) Storage(batch int) Storage {
	m, P := pl.Model, pl.P
	T := int64(pl.Prompt + pl.Steps)
	lay, kv, hd := int64(m.NumHiddenLayers), int64(m.KVHeads()), int64(m.HeadSize())
	per := lay * int64(batch) // layers × sequences
	word := func(n int64) int64 { return (n*int64(pl.setup.KVBits) + 7) / 8 }
	ceil := func(a, b int64) int64 { return (a + b - 1) / b }
	s := Storage{Tokens: int(T), DenseKV: per * word(2*kv*hd*T)}
	s.KV = s.DenseKV
	switch P.Method {
	case MethodEvict:
		s.KV = per * word(2*kv*hd*min(T, int64(P.Budget)))
	case MethodQuest:
		s.Metadata = per * word(kv*ceil(T, int64(P.PageSize))*2*hd)
	case MethodDoubleSparsity:
		s.LabelCache = per * word(kv*T*int64(P.Channels))
	case MethodDSA, MethodHISA:
		keys := T
		if P.Method == MethodHISA {
			keys += ceil(T, int64(P.Block))
		}
		s.Indexer = per * ((keys*int64(P.IndexDim)*int64(P.IndexBits) + 7) / 8)
	case MethodMustafar:
		s.KV = per * word(2*kv*T*int64(Kept(int(hd), P.Sparsity)))
		s.Metadata = per * ((2*kv*T*hd + 7) / 8)
	}
	return s
}
