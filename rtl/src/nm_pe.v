// N:M sparse dot-product PE.
// Each cycle it takes one group of M activations and the N kept weights of
// that group with their log2(M)-bit indices, selects the matching
// activations with N M:1 multiplexers, multiplies, sums the N products in an
// adder tree and accumulates. clear starts a new dot product with this group.
// Select, multiply and the adder tree are combinational; the accumulator is
// the one register, so the PE is a one-cycle systolic hop like the dense PE
// (arch.NMPELatency = arch.SystolicHopCycles = 1) and one group per cycle.
module nm_pe #(
    parameter N   = 2,
    parameter M   = 4,
    parameter W   = 8,   // operand width, signed
    parameter IW  = 2,   // index width, log2(M)
    parameter ACC = 32   // accumulator width
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             in_valid,
    input  wire             clear,
    input  wire [M*W-1:0]   act,
    input  wire [N*W-1:0]   wval,
    input  wire [N*IW-1:0]  widx,
    output reg  [ACC-1:0]   acc,
    output reg              out_valid
);
    reg signed [2*W-1:0] prod;
    reg signed [ACC-1:0] sum;
    integer j;
    always @* begin
        sum = {ACC{1'b0}};
        for (j = 0; j < N; j = j + 1) begin
            prod = $signed(wval[j*W +: W]) * $signed(act[widx[j*IW +: IW]*W +: W]);
            sum  = sum + {{(ACC-2*W){prod[2*W-1]}}, prod};
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            acc       <= {ACC{1'b0}};
            out_valid <= 1'b0;
        end else begin
            out_valid <= in_valid;
            if (in_valid) acc <= (clear ? {ACC{1'b0}} : acc) + sum;
        end
    end
endmodule
