// Fold controller of the weight-stationary array. It walks a schedule
// (one entry per fold, written by Go from mapping.Schedule as a memory
// image) and for each fold: shifts the stationary weight tile in (R preload
// cycles), streams the fold's t activation steps, and drains the outputs
// into the output memory, adding to the partial sums of earlier row folds.
//
// A fold ends when its last output leaves the array, which the controller
// sees on out_v (it does not count a programmed drain length). The next
// fold's first preload cycle is that same cycle: the weight shift does not
// disturb the leaving output, so consecutive folds do not overlap and leave
// no gap — the fold sequence SCALE-Sim's formula assumes.
//
// Schedule entry, nine 32-bit fields, field j at bits [32j +: 32]:
//   0 flags (bit 0: last fold, bit 1: accumulate onto earlier partial sums)
//   1 w_base  first weight-memory word of the fold (R words, row R-1 first)
//   2 k0      first kept-K row of the tile
//   3 n0      first output column
//   4 used_rows, 5 used_cols (the rest of the tile is padding)
//   6 t       stream steps (the GEMM's M)
//   7 G       activation words per step (groups of M along K; K when dense)
//   8 NC      output words per output row (the GEMM's N)
// Memories are ideal: reads are combinational, any number of ports.
module sa_ctrl #(
    parameter R  = 4,
    parameter C  = 4,
    parameter NN = 1,    // kept weights per group (N of N:M; 1 when dense)
    parameter AW = 32,
    parameter SW = 9 * 32
) (
    input  wire            clk,
    input  wire            go,
    output wire [AW-1:0]   sched_addr,
    input  wire [SW-1:0]   sched_word,
    output wire            w_load,
    output wire [AW-1:0]   w_addr,
    output wire            a_v,
    output wire [R*AW-1:0] a_addr,
    output wire [R-1:0]    a_en,
    input  wire            out_v,
    output wire            o_we,
    output wire [AW-1:0]   o_base,
    output wire [C-1:0]    o_mask,
    output wire            o_acc,
    output wire            done
);
    localparam BOOT = 2'd0, PRE = 2'd1, STR = 2'd2, FIN = 2'd3;
    reg [1:0]    state = BOOT;
    reg [AW-1:0] fidx = 0;           // next schedule entry to read
    reg [SW-1:0] cur = 0;            // the fold being preloaded or streamed
    reg [AW-1:0] i = 0;              // preload cycle
    reg [AW-1:0] s = 0, sG = 0;      // stream step and s * G
    // The collector keeps its own copy of the fold it drains.
    reg [AW-1:0] c_n0 = 0, c_used = 0, c_t = 0, c_nc = 0, oc = 0, ocNC = 0;
    reg          c_acc = 1'b0, c_last = 1'b0;

    function [31:0] field(input [SW-1:0] e, input integer j);
        field = e[j*32 +: 32];
    endfunction

    assign sched_addr = fidx;
    wire fold_end = (state == STR) && out_v && (oc == c_t - 1);
    assign done = fold_end && c_last;
    // Preloading: a PRE cycle, the first cycle after go, or the cycle the
    // previous fold's last output leaves.
    wire          pre_now = (state == PRE) || (state == BOOT && go) || (fold_end && !c_last);
    wire [SW-1:0] pre_ent = (state == PRE) ? cur : sched_word;
    wire [AW-1:0] pre_i   = (state == PRE) ? i : {AW{1'b0}};
    assign w_load = pre_now;
    assign w_addr = field(pre_ent, 1) + pre_i;

    assign a_v = (state == STR) && (s < field(cur, 6));
    genvar r, c;
    generate
        for (r = 0; r < R; r = r + 1) begin : g_feed
            wire [AW-1:0] k = field(cur, 2) + r;
            assign a_addr[r*AW +: AW] = sG + k / NN;   // the row's group of M
            assign a_en[r] = a_v && (r < field(cur, 4));
        end
        for (c = 0; c < C; c = c + 1) begin : g_mask
            assign o_mask[c] = c < c_used;
        end
    endgenerate
    assign o_we   = (state == STR) && out_v;
    assign o_base = ocNC + c_n0;
    assign o_acc  = c_acc;

    always @(posedge clk) begin
        if (state == STR) begin
            if (s < field(cur, 6)) begin
                s  <= s + 1;
                sG <= sG + field(cur, 7);
            end
            if (out_v) begin
                oc   <= oc + 1;
                ocNC <= ocNC + c_nc;
            end
            if (done) state <= FIN;
        end
        // After the stream block so a one-row array (preload of one cycle
        // in the cycle the last output leaves) takes the new fold.
        if (pre_now) begin
            cur <= pre_ent;
            if (state != PRE) fidx <= fidx + 1;
            if (pre_i == R - 1) begin
                state  <= STR;
                s      <= 0;
                sG     <= 0;
                oc     <= 0;
                ocNC   <= 0;
                c_n0   <= field(pre_ent, 3);
                c_used <= field(pre_ent, 5);
                c_t    <= field(pre_ent, 6);
                c_nc   <= field(pre_ent, 8);
                c_acc  <= pre_ent[1];
                c_last <= pre_ent[0];
            end else begin
                state <= PRE;
                i     <= pre_i + 1;
            end
        end
    end
endmodule
