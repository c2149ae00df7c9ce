package memory

// Traffic is DRAM traffic of one kind of tensor.
type Traffic struct {
	ReadBytes, WriteBytes int64 // useful bytes
	Requests              int64 // DRAM requests issued (each request_bytes on the bus)
}

// Ledger is where every DRAM transfer is booked, by layer and tensor kind:
// the single source of traffic numbers (engines never count bytes).
type Ledger struct {
	Kinds  int
	layers [][]Traffic
}

// NewLedger books traffic for kinds tensor kinds per layer.
func NewLedger(kinds int) *Ledger { return &Ledger{Kinds: kinds} }

// Book records a transfer of t.
func (l *Ledger) Book(t Tensor, bytes, requests int64, write bool) {
	for len(l.layers) <= t.Layer {
		l.layers = append(l.layers, make([]Traffic, l.Kinds))
	}
	tr := &l.layers[t.Layer][t.Kind]
	if write {
		tr.WriteBytes += bytes
	} else {
		tr.ReadBytes += bytes
	}
	tr.Requests += requests
}

// Layer is layer i's traffic by kind (zeros if nothing was booked).
func (l *Ledger) Layer(i int) []Traffic {
	if i < len(l.layers) {
		return l.layers[i]
	}
	return make([]Traffic, l.Kinds)
}
