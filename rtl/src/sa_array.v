// R x C weight-stationary systolic array of sa_pe (dense when M = 1).
// Weights enter at the top and shift down during the preload (R cycles);
// activation windows enter at the left, one per row, and move right;
// partial sums move down and leave at the bottom.
// Skew is inside the array: all rows take stream step m in the same cycle
// and row r is delayed r cycles by a register line (input skew); column c
// is delayed C-1-c cycles at the bottom (output de-skew), so all C outputs
// of step m leave in the same cycle. Column C-1 has no de-skew delay and row
// 0 no skew delay, so the skew lines add no cycles to a fold: the last
// output leaves t + R + C - 2 cycles after the first step enters.
//
// WB = 2 builds the shadow-weight array (sa_pe WB = 2): w_commit marks the
// last preload cycle, in which every PE writes its shifted-in word into
// bank w_bank, and each activation step enters with a_b, the bank of the
// fold it belongs to, which travels through the skew line and the row
// beside the valid bit. WB = 1 has no bank bit anywhere.
module sa_array #(
    parameter R   = 4,
    parameter C   = 4,
    parameter M   = 1,
    parameter W   = 8,
    parameter IW  = 1,
    parameter ACC = 32,
    parameter WB  = 1,
    parameter WW  = W + ((M > 1) ? IW : 0)
) (
    input  wire             clk,
    input  wire             w_load,
    input  wire             w_commit,  // WB = 2 only
    input  wire             w_bank,    // WB = 2 only
    input  wire [C*WW-1:0]  w_top,
    input  wire             a_v,
    input  wire             a_b,       // WB = 2 only
    input  wire [R*M*W-1:0] a_left,
    output wire             out_v,
    output wire [C*ACC-1:0] out_p
);
    localparam BB  = (WB == 2) ? 1 : 0;
    localparam AWD = M * W + 1 + BB;   // window, valid bit, bank bit (WB = 2)
    localparam VB  = M * W;            // index of the valid bit
    wire [WW-1:0]  wv [0:R][0:C-1];
    wire [AWD-1:0] av [0:R-1][0:C];
    wire [ACC-1:0] pv [0:R][0:C-1];
    genvar r, c;
    generate
        for (r = 0; r < R; r = r + 1) begin : g_skew
            wire [AWD-1:0] in;
            if (BB) begin : g_bank
                assign in = {a_b, a_v, a_left[r*M*W +: M*W]};
            end else begin : g_nobank
                assign in = {a_v, a_left[r*M*W +: M*W]};
            end
            if (r == 0) begin : g_none
                assign av[r][0] = in;
            end else if (r == 1) begin : g_one
                reg [AWD-1:0] line = {AWD{1'b0}};
                always @(posedge clk) line <= in;
                assign av[r][0] = line;
            end else begin : g_line
                reg [AWD*r-1:0] line = {AWD*r{1'b0}};
                always @(posedge clk) line <= {line[AWD*(r-1)-1:0], in};
                assign av[r][0] = line[AWD*r-1 -: AWD];
            end
        end
        for (c = 0; c < C; c = c + 1) begin : g_top
            assign wv[0][c] = w_top[c*WW +: WW];
            assign pv[0][c] = {ACC{1'b0}};
        end
        for (r = 0; r < R; r = r + 1) begin : g_row
            for (c = 0; c < C; c = c + 1) begin : g_col
                wire b_in, b_out;
                if (BB) begin : g_bank
                    assign b_in = av[r][c][AWD-1];
                    assign av[r][c+1][AWD-1] = b_out;
                end else begin : g_nobank
                    assign b_in = 1'b0;
                end
                sa_pe #(.M(M), .W(W), .IW(IW), .ACC(ACC), .WB(WB), .WW(WW)) pe (
                    .clk(clk), .w_load(w_load), .w_commit(w_commit), .w_bank(w_bank),
                    .w_in(wv[r][c]), .w_out(wv[r+1][c]),
                    .a_v_in(av[r][c][VB]), .a_b_in(b_in), .a_in(av[r][c][M*W-1:0]),
                    .a_v_out(av[r][c+1][VB]), .a_b_out(b_out), .a_out(av[r][c+1][M*W-1:0]),
                    .p_in(pv[r][c]), .p_out(pv[r+1][c]));
            end
        end
        for (c = 0; c < C; c = c + 1) begin : g_deskew
            localparam D = C - 1 - c;
            if (D == 0) begin : g_none
                assign out_p[c*ACC +: ACC] = pv[R][c];
            end else if (D == 1) begin : g_one
                reg [ACC-1:0] line = {ACC{1'b0}};
                always @(posedge clk) line <= pv[R][c];
                assign out_p[c*ACC +: ACC] = line;
            end else begin : g_line
                reg [ACC*D-1:0] line = {ACC*D{1'b0}};
                always @(posedge clk) line <= {line[ACC*(D-1)-1:0], pv[R][c]};
                assign out_p[c*ACC +: ACC] = line[ACC*D-1 -: ACC];
            end
        end
    endgenerate
    // The bottom-right PE's registered valid marks step m leaving column
    // C-1, the same cycle the de-skewed outputs of the other columns leave.
    assign out_v = av[R-1][C][VB];
endmodule
