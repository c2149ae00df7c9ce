// Progressive-quantization unit: recombines a key's MSB part (a B-bit code
// whose L low bits are zero) with its L fetched LSBs, and decides whether a
// row needs its LSBs: refetch = max probability < tau (unsigned fixed
// point). Latency 1 cycle (arch.PQuantDecisionLatency).
module pquant #(
    parameter B = 10,  // total code bits (MSB + LSB)
    parameter L = 4,   // LSB bits
    parameter P = 16   // probability bits
) (
    input  wire         clk,
    input  wire         in_valid,
    input  wire [B-1:0] msb,
    input  wire [L-1:0] lsb,
    input  wire [P-1:0] maxprob,
    input  wire [P-1:0] tau,
    output reg  [B-1:0] full,
    output reg          refetch,
    output reg          out_valid
);
    always @(posedge clk) begin
        full      <= {msb[B-1:L], lsb};
        refetch   <= maxprob < tau;
        out_valid <= in_valid;
    end
endmodule
