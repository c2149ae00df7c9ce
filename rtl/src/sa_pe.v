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
//
// WB = 2 is the shadow-weight (double-buffered) PE: the shift stage is only
// a shadow that the preload moves through, and two weight banks hold the
// weights the PE multiplies with. In the last preload cycle of a fold
// (w_commit) every PE copies its shifted-in word w_in into bank w_bank at
// the same edge the shadow takes it, so a whole tile lands in one cycle and
// the fold in the other bank keeps computing while the next one shifts in.
// Each activation carries the bank it is to be multiplied with (a_b_in),
// registered beside its valid bit, so two folds' wavefronts can be in the
// array at once. With WB = 1 the bank ports are unused and the PE is the
// single-register PE above, register for register.
module sa_pe #(
    parameter M   = 1,   // activation window (1 = dense)
    parameter W   = 8,   // operand width, signed
    parameter IW  = 1,   // index width, ceil(log2 M); ignored when M = 1
    parameter ACC = 32,  // partial-sum width
    parameter WB  = 1,   // weight buffers: 1 (single register) or 2 (shadow + two banks)
    parameter WW  = W + ((M > 1) ? IW : 0)  // stored weight word {value, index}
) (
    input  wire           clk,
    input  wire           w_load,
    input  wire           w_commit,  // WB = 2: last preload cycle, write bank w_bank
    input  wire           w_bank,
    input  wire [WW-1:0]  w_in,
    output wire [WW-1:0]  w_out,
    input  wire           a_v_in,
    input  wire           a_b_in,    // WB = 2: the bank this activation uses
    input  wire [M*W-1:0] a_in,
    output reg            a_v_out = 1'b0,
    output wire           a_b_out,
    output reg  [M*W-1:0] a_out = {M*W{1'b0}},
    input  wire [ACC-1:0] p_in,
    output reg  [ACC-1:0] p_out = {ACC{1'b0}}
);
    reg [WW-1:0] wreg = {WW{1'b0}};
    assign w_out = wreg;
    wire [WW-1:0] wuse;  // the weight word multiplied this cycle
    generate
        if (WB == 2) begin : g_banks
            reg [WW-1:0] bank0 = {WW{1'b0}}, bank1 = {WW{1'b0}};
            reg          a_b = 1'b0;
            assign a_b_out = a_b;
            sa_bank_mux #(.WW(WW)) bmux (.s(a_b_in), .a(bank0), .b(bank1), .y(wuse));
            always @(posedge clk) begin
                a_b <= a_b_in;
                if (w_load && w_commit && !w_bank) bank0 <= w_in;
                if (w_load && w_commit && w_bank) bank1 <= w_in;
            end
        end else begin : g_single
            assign a_b_out = 1'b0;
            assign wuse = wreg;
        end
    endgenerate
    wire signed [W-1:0] wval = wuse[WW-1 -: W];
    wire signed [W-1:0] sel;
    generate
        if (M > 1) begin : g_select
            wire [IW-1:0] widx = wuse[IW-1:0];
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

// The bank multiplexer of the shadow-weight PE, a hierarchy boundary for
// synthesis only: flattened, ABC pushes it through the M:1 window select
// and maps a 2M:1 select per operand bit (about four times the LUTs of
// WB = 1 at M = 4). Kept apart, the index and value are chosen first
// (one LUT3 a bit) and the select stays what it is at WB = 1.
(* keep_hierarchy *)
module sa_bank_mux #(
    parameter WW = 8
) (
    input  wire          s,
    input  wire [WW-1:0] a,
    input  wire [WW-1:0] b,
    output wire [WW-1:0] y
);
    assign y = s ? b : a;
endmodule
