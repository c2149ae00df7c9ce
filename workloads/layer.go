package workloads

import "fmt"

// Layer is one operation lowered to Groups independent GEMMs of shape
// (M×K)·(K×N). Groups > 1 stands for depthwise/grouped convolutions and for
// per-head attention products; the groups share nothing, so they run one
// after another on the array.
type Layer struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"` // "conv", "gemm", "attn_qk", "attn_av", "fc", KindAttnFused
	M      int    `json:"m"`
	N      int    `json:"n"`
	K      int    `json:"k"`
	Groups int    `json:"groups"`
	// NM optionally fixes this layer's weight sparsity pattern ("2:4",
	// "dense"); empty means the architecture's default applies.
	NM string `json:"nm,omitempty"`
	// WeightOperand is false for activation×activation products (attention
	// scores, prob×V, weight gradients): N:M weight sparsity never applies.
	WeightOperand bool `json:"weight_operand"`
	// Phase is "" for inference, else fwd, bwd_data, bwd_weight or update.
	Phase string `json:"phase,omitempty"`
	// FilterOnChip says the K×N operand is already in the filter buffer
	// when the layer starts (a gather DMA put it there, arch/gather.go):
	// it is not read from DRAM if it fits the buffer, else it streams.
	FilterOnChip bool `json:"filter_on_chip,omitempty"`
	// Conv is the convolution's input geometry, for fetching the real
	// input tensor rather than its im2col expansion; nil for GEMMs (and
	// for convolutions whose geometry is unknown, fetched as im2col).
	Conv *ConvGeom `json:"conv,omitempty"`
	// FilterBits and OutBits are the widths the K×N operand and the output
	// are stored at in DRAM; 0 means the array's operand width and the
	// config's output width. LLM runs set them for a KV cache narrower
	// than the array's operands: the fetcher widens cached keys and values
	// on their way into the buffer, so the array and the buffers' planning
	// see operand-width words while DRAM moves the narrow ones.
	FilterBits int `json:"filter_bits,omitempty"`
	OutBits    int `json:"out_bits,omitempty"`
}

// ConvGeom is a convolution's input as it sits in DRAM: an unpadded
// Batch×InH×InW×Channels tensor (NHWC). Output (oy, ox) at filter tap
// (fy, fx) reads input row oy·Stride+fy−Pad and column ox·Stride+fx−Pad;
// taps in the padding read zeros made on chip.
type ConvGeom struct {
	Batch    int `json:"batch"`
	InH      int `json:"in_h"`
	InW      int `json:"in_w"`
	Channels int `json:"channels"`
	FilterH  int `json:"filter_h"`
	FilterW  int `json:"filter_w"`
	Stride   int `json:"stride"`
	Pad      int `json:"pad"`
	OutH     int `json:"out_h"`
	OutW     int `json:"out_w"`
}

// InputElems is the input tensor's size in elements.
func (c ConvGeom) InputElems() int64 {
	return int64(c.Batch) * int64(c.InH) * int64(c.InW) * int64(c.Channels)
}

// KindAttnFused is fused ("flash") attention: per group, M queries of
// head dimension K against N cached keys and values, Q·Kᵀ then P·V with
// the scores kept on chip. It is two products of M·N·K MACs, one layer
// so that the engine can interleave them tile by tile.
const KindAttnFused = "attn_fused"

// MACs is the number of multiply-accumulates the layer needs densely.
func (l Layer) MACs() int64 {
	macs := int64(l.Groups) * int64(l.M) * int64(l.N) * int64(l.K)
	if l.Kind == KindAttnFused {
		return 2 * macs // Q·Kᵀ and P·V
	}
	return macs
}

// Validate reports the first impossible dimension.
func (l Layer) Validate() error {
	for _, d := range []struct {
		name string
		v    int
	}{{"m", l.M}, {"n", l.N}, {"k", l.K}, {"groups", l.Groups}} {
		if d.v <= 0 {
			return fmt.Errorf("layer %q: %s must be a positive integer, got %d", l.Name, d.name, d.v)
		}
	}
	// Counts are int64: a layer whose MACs do not fit would report a
	// negative count.
	if float64(l.M)*float64(l.N)*float64(l.K)*float64(l.Groups) > 1<<62 {
		return fmt.Errorf("layer %q: M×N×K×groups = %.3g MACs is more than a 64-bit count holds", l.Name, float64(l.M)*float64(l.N)*float64(l.K)*float64(l.Groups))
	}
	return nil
}

// Workload is an ordered list of layers, or, for sparse attention
// engines, of attention rows.
type Workload struct {
	Name      string    `json:"name"`
	Source    string    `json:"source"`
	Layers    []Layer   `json:"layers"`
	Attention []AttnRow `json:"-"`
}

// MACs totals the dense MACs of every layer.
func (w Workload) MACs() int64 {
	var s int64
	for _, l := range w.Layers {
		s += l.MACs()
	}
	return s
}

// ConvSpec is a convolution as SCALE-Sim's topology files state it: the
// IFMAP size already includes any padding.
type ConvSpec struct {
	Name     string
	IfmapH   int
	IfmapW   int
	FilterH  int
	FilterW  int
	Channels int
	Filters  int
	Stride   int
	Groups   int // 1 for a normal conv; Channels for depthwise
	Batch    int
	// InH, InW and Pad describe the tensor in DRAM when IFMAP is a padded
	// (and trimmed) view of it: input row = IFMAP row − Pad. Zero InH/InW
	// means the IFMAP is the tensor itself (SCALE-Sim's convention: its
	// CSVs' IFMAP sizes already include padding, and it fetches them).
	InH, InW, Pad int
}

// OutDims is SCALE-Sim's output size: ceil((H − FH + S)/S), i.e.
// floor((H − FH)/S) + 1 for H ≥ FH.
func (c ConvSpec) OutDims() (oh, ow int) {
	oh = (c.IfmapH-c.FilterH+c.Stride)/c.Stride + boolInt((c.IfmapH-c.FilterH+c.Stride)%c.Stride != 0)
	ow = (c.IfmapW-c.FilterW+c.Stride)/c.Stride + boolInt((c.IfmapW-c.FilterW+c.Stride)%c.Stride != 0)
	return oh, ow
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Lower turns the convolution into its GEMM layer.
func (c ConvSpec) Lower() (Layer, error) {
	if c.Stride <= 0 {
		return Layer{}, fmt.Errorf("layer %q: stride must be positive, got %d", c.Name, c.Stride)
	}
	if c.FilterH > c.IfmapH || c.FilterW > c.IfmapW {
		return Layer{}, fmt.Errorf("layer %q: filter %dx%d larger than ifmap %dx%d", c.Name, c.FilterH, c.FilterW, c.IfmapH, c.IfmapW)
	}
	g := c.Groups
	if g <= 0 {
		g = 1
	}
	b := c.Batch
	if b <= 0 {
		b = 1
	}
	if c.Channels%g != 0 || c.Filters%g != 0 {
		return Layer{}, fmt.Errorf("layer %q: channels %d and filters %d must both divide by groups %d", c.Name, c.Channels, c.Filters, g)
	}
	oh, ow := c.OutDims()
	l := Layer{
		Name: c.Name, Kind: "conv",
		M: b * oh * ow, K: c.FilterH * c.FilterW * c.Channels / g, N: c.Filters / g,
		Groups: g, WeightOperand: true,
	}
	inH, inW := c.InH, c.InW
	if inH <= 0 || inW <= 0 {
		inH, inW = c.IfmapH, c.IfmapW
	}
	l.Conv = &ConvGeom{Batch: b, InH: inH, InW: inW, Channels: c.Channels, FilterH: c.FilterH, FilterW: c.FilterW,
		Stride: c.Stride, Pad: c.Pad, OutH: oh, OutW: ow}
	return l, l.Validate()
}

// GEMM builds a plain weight GEMM layer.
func GEMM(name string, m, n, k int) Layer {
	return Layer{Name: name, Kind: "gemm", M: m, N: n, K: k, Groups: 1, WeightOperand: true}
}
