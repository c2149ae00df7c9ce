package inference

import (
	"reflect"
	"testing"
)

// TestDecodeAttentionOnEngine: with attention.decode_on_engine the decode
// attention runs on the attention engine, which reads each KV head's keys
// and values once for its query group — the shape's bytes with the
// fetched-token count rounded up to 8 as the engine's metadata rounds it
// (sim/TestSpAtten.scala), computed here — and the weights' bytes do not
// change; memoized equals every attention simulated.
func TestDecodeAttentionOnEngine(t *testing.T) {
	m := zooModel(t, "llama-3.2-1b")
	m.NumHiddenLayers = 2
	const prompt, batch = 500, 2
	array := loadCfg(t, "llm-128x128", "dram.model=ideal")
	engine := loadCfg(t, "llm-128x128", "dram.model=ideal", "attention.decode_on_engine=true")
	o := LLMOptions{Phase: PhaseDecode, Prompt: prompt, Gen: 3, Batch: batch, RecordOps: true}
	ra, err := SimulateLLM(array, m, o)
	if err != nil {
		t.Fatal(err)
	}
	re, err := SimulateLLM(engine, m, o)
	if err != nil {
		t.Fatal(err)
	}
	row := int64(m.HeadSize()) * 2 // bytes of one key (or value) vector, bf16
	appended := int64(batch) * int64(m.NumHiddenLayers) * 2 * int64(m.KVHeads()) * row
	for i, st := range re.Steps {
		ctx := int64(prompt + i + 1)
		fetched := (ctx + 7) / 8 * 8
		want := int64(batch)*int64(m.NumHiddenLayers)*int64(m.KVHeads())*2*row*fetched + appended
		if st.Bytes.KV != want {
			t.Errorf("step %d: engine KV bytes %d, shape gives %d", i+1, st.Bytes.KV, want)
		}
		if st.Bytes.Weights != ra.Steps[i].Bytes.Weights {
			t.Errorf("step %d: weight bytes %d on the engine config, %d on the array", i+1, st.Bytes.Weights, ra.Steps[i].Bytes.Weights)
		}
	}
	var engineOps int
	for _, op := range re.Ops {
		if op.Class == "attention" {
			engineOps++
		}
	}
	if want := 3 * m.NumHiddenLayers; engineOps != want {
		t.Errorf("%d attention operators, want one per layer and step (%d)", engineOps, want)
	}
	o.NoMemo = true
	one, err := SimulateLLM(engine, m, o)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(one.Steps, re.Steps) || !reflect.DeepEqual(one.Ops, re.Ops) {
		t.Errorf("memoized engine attention differs from simulating every one")
	}
}
