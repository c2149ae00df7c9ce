// One PE of the weight-stationary systolic array, dense when M = 1.
// It holds one (kept) weight and, for N:M, that weight's index inside its
// group of M. The activation input is the group's M-wide window (one word
// when dense); the PE selects window[index] with an M:1 multiplexer,
// multiplies, adds the partial sum from the PE above and registers it for
// the PE below. The window and its valid bit pass through a register to the
// PE on the right. The weight register is also a shift stage: while w_load
// is high the column's weights shift down one row a cycle (the preload).
// Every stage is one register, so a hop costs one cycle
// (arch.SystolicHopCycles).
module sa_pe #(
    parameter M   = 1,   // activation window (1 = dense)
    parameter W   = 8,   // operand width, signed
    parameter IW  = 1,   // index width, ceil(log2 M); ignored when M = 1
    parameter ACC = 32,  // partial-sum width
    parameter WW  = W + ((M > 1) ? IW : 0)  // stored weight word {value, index}
) (
    input  wire           clk,
    input  wire           w_load,
    input  wire [WW-1:0]  w_in,
    output wire [WW-1:0]  w_out,
    input  wire           a_v_in,
    input  wire [M*W-1:0] a_in,
    output reg            a_v_out = 1'b0,
    output reg  [M*W-1:0] a_out = {M*W{1'b0}},
    input  wire [ACC-1:0] p_in,
    output reg  [ACC-1:0] p_out = {ACC{1'b0}}
);
    reg [WW-1:0] wreg = {WW{1'b0}};
    assign w_out = wreg;
    wire signed [W-1:0] wval = wreg[WW-1 -: W];
    wire signed [W-1:0] sel;
    generate
        if (M > 1) begin : g_select
            wire [IW-1:0] widx = wreg[IW-1:0];
            assign sel = a_in[widx*W +: W];
        end else begin : g_dense
            assign sel = a_in[W-1:0];
        end
    endgenerate
    wire signed [2*W-1:0] prod = wval * sel;
    always @(posedge clk) begin
        if (w_load) wreg <= w_in;
        a_out   <= a_in;
        a_v_out <= a_v_in;
        p_out   <= p_in + {{(ACC-2*W){prod[2*W-1]}}, prod};
    end
endmodule
