//go:build ignore

// make_npy writes the example .npy files shipped in docs/examples:
//
//	go run docs/examples/make_npy.go
//
// activations_64x128_int8.npy (X, 64×128) and weights_128x32_int8.npy
// (W, 128×32), seeded int8 data of the kind PyTorch's
// torch.quantize_per_tensor(...).int_repr().numpy() exports. Try them with
//
//	sparsesim compare --case gemm,nm --activations docs/examples/activations_64x128_int8.npy \
//	    --weights docs/examples/weights_128x32_int8.npy
package main

import (
	"log"
	"math/rand"
	"os"

	"github.com/sparsesim/sparsesim/traces"
)

func main() {
	r := rand.New(rand.NewSource(2026))
	write := func(name string, rows, cols int) {
		a := traces.Array{Shape: []int{rows, cols}, Data: make([]float64, rows*cols)}
		for i := range a.Data {
			a.Data[i] = float64(r.Intn(255) - 127)
		}
		b, err := traces.WriteNPY(a, "i1")
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile("docs/examples/"+name, b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	write("activations_64x128_int8.npy", 64, 128)
	write("weights_128x32_int8.npy", 128, 32)
}
