package traces

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/sparsesim/sparsesim/internal/usererr"
)

// Array is a 1-D or 2-D NumPy array read into float64 (integers are exact).
type Array struct {
	Shape []int
	DType string // numpy descr without byte order, e.g. "f4", "i1"
	Data  []float64
}

// Rows and Cols view a 1-D array as one row.
func (a Array) Rows() int {
	if len(a.Shape) == 1 {
		return 1
	}
	return a.Shape[0]
}

// Cols is the last dimension.
func (a Array) Cols() int { return a.Shape[len(a.Shape)-1] }

var npyHeader = regexp.MustCompile(`'descr':\s*'([<>|=]?)([a-z]\d+)'.*'fortran_order':\s*(True|False).*'shape':\s*\(([^)]*)\)`)

// ReadNPY reads a .npy file: format 1.0–3.0, little-endian dtypes f4, f8,
// i1, i2, i4, i8, u1, u2, u4, C order, 1-D or 2-D. Anything else is one
// clear error naming the file.
func ReadNPY(path string) (Array, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Array{}, usererr.New("%s: %v", path, err)
	}
	return ParseNPY(path, b)
}

// ParseNPY decodes .npy bytes; name is used in errors.
func ParseNPY(name string, b []byte) (Array, error) {
	bad := func(f string, a ...any) (Array, error) {
		return Array{}, usererr.New("%s: not a usable .npy file: "+f, append([]any{name}, a...)...)
	}
	if len(b) < 10 || !bytes.Equal(b[:6], []byte("\x93NUMPY")) {
		return bad("missing the \\x93NUMPY magic")
	}
	var hlen, off int
	switch b[6] {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return bad("truncated header")
		}
		hlen, off = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return bad("format version %d.%d is not supported", b[6], b[7])
	}
	if off+hlen > len(b) {
		return bad("header of %d bytes runs past the end of the file", hlen)
	}
	h := string(b[off : off+hlen])
	m := npyHeader.FindStringSubmatch(h)
	if m == nil {
		return bad("header %q lacks descr, fortran_order or shape", strings.TrimSpace(h))
	}
	if m[1] == ">" {
		return bad("big-endian data (%s%s) is not supported; save with '<%s'", m[1], m[2], m[2])
	}
	if m[3] == "True" {
		return bad("Fortran-order arrays are not supported; save with np.ascontiguousarray")
	}
	a := Array{DType: m[2]}
	for _, f := range strings.Split(m[4], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return bad("shape %q", m[4])
		}
		a.Shape = append(a.Shape, n)
	}
	if len(a.Shape) < 1 || len(a.Shape) > 2 {
		return bad("shape (%s): only 1-D and 2-D arrays are supported", m[4])
	}
	size := 1
	for _, n := range a.Shape {
		size *= n
	}
	width, _ := strconv.Atoi(a.DType[1:])
	data := b[off+hlen:]
	if len(data) != size*width {
		return bad("%d data bytes for shape %v of %s, want %d (truncated or padded)", len(data), a.Shape, a.DType, size*width)
	}
	a.Data = make([]float64, size)
	le := binary.LittleEndian
	for i := range a.Data {
		p := data[i*width:]
		switch a.DType {
		case "f4":
			a.Data[i] = float64(math.Float32frombits(le.Uint32(p)))
		case "f8":
			a.Data[i] = math.Float64frombits(le.Uint64(p))
		case "i1":
			a.Data[i] = float64(int8(p[0]))
		case "u1":
			a.Data[i] = float64(p[0])
		case "i2":
			a.Data[i] = float64(int16(le.Uint16(p)))
		case "u2":
			a.Data[i] = float64(le.Uint16(p))
		case "i4":
			a.Data[i] = float64(int32(le.Uint32(p)))
		case "u4":
			a.Data[i] = float64(le.Uint32(p))
		case "i8":
			a.Data[i] = float64(int64(le.Uint64(p)))
		default:
			return bad("dtype %s is not supported (f4, f8, i1, i2, i4, i8, u1, u2, u4)", a.DType)
		}
	}
	return a, nil
}

// WriteNPY encodes a 2-D array as .npy version 1.0 in dtype (f4, f8, i1,
// i2, i4).
func WriteNPY(a Array, dtype string) ([]byte, error) {
	width, _ := strconv.Atoi(dtype[1:])
	shape := make([]string, len(a.Shape))
	for i, n := range a.Shape {
		shape[i] = strconv.Itoa(n)
	}
	tuple := strings.Join(shape, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	h := fmt.Sprintf("{'descr': '<%s', 'fortran_order': False, 'shape': (%s), }", dtype, tuple)
	pad := 64 - (10+len(h)+1)%64
	h += strings.Repeat(" ", pad) + "\n"
	var buf bytes.Buffer
	buf.WriteString("\x93NUMPY\x01\x00")
	_ = binary.Write(&buf, binary.LittleEndian, uint16(len(h)))
	buf.WriteString(h)
	le := binary.LittleEndian
	for _, v := range a.Data {
		p := make([]byte, width)
		switch dtype {
		case "f4":
			le.PutUint32(p, math.Float32bits(float32(v)))
		case "f8":
			le.PutUint64(p, math.Float64bits(v))
		case "i1":
			p[0] = byte(int8(v))
		case "i2":
			le.PutUint16(p, uint16(int16(v)))
		case "i4":
			le.PutUint32(p, uint32(int32(v)))
		default:
			return nil, fmt.Errorf("WriteNPY: dtype %s not supported", dtype)
		}
		buf.Write(p)
	}
	return buf.Bytes(), nil
}
