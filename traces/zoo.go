package traces

// The GPT-2 zoo entries the attention workloads look up by name
// (workloads.TransformerShape) are registered by the LLM package from its
// descriptions; importing it here makes them present wherever traces are.
import _ "github.com/sparsesim/sparsesim/workloads/llm"
