// Fold controller of the shadow-weight (double-buffered, WB = 2) array.
// Same schedule entries and memories as sa_ctrl; three engines work at
// once, each on its own fold, in mapping order:
//
//   loader    shifts fold g's weights down the shadow chain (R cycles, the
//             weight port carries one fold at a time) and, in its last
//             cycle, commits them to bank g%2 (w_commit);
//   streamer  feeds the activation steps of one fully loaded fold at a
//             time, each step tagged with the fold's bank (a_b = g%2);
//   drainer   writes the outputs leaving the array; they leave in fold
//             order, t per fold, so it walks the folds in order.
//
// A bank may be overwritten only after the last activation step that uses
// it has been multiplied in every PE. The last PE to use it is PE(R-1,C-1),
// which multiplies fold g's last step in cycle S_g + t_g + R + C - 3; the
// commit of fold g+2 happens at the edge that ends its last preload cycle
// P_{g+2} + R - 1, and a register written at that edge still holds the old
// word during that cycle, so P_{g+2} >= S_g + t_g + C - 2 is exact, not
// conservative. The streamer records it per bank when the fold's last step
// enters (bfree = that cycle + C - 1); a load start claims its bank until
// then (bfree = NEVER).
//
// Per-fold state lives in a ring of four schedule entries indexed by fold
// number mod 4: a fold is written when its preload starts and is last read
// when its last output leaves. Four are enough: folds g and g+4 share a
// bank twice removed, and fold g+4 cannot start loading before fold g+2
// has streamed, which is after fold g has drained (docs/rtl.md).
//
// Memories are ideal: reads are combinational, any number of ports.
module sa_ctrl_db #(
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
    output wire            w_commit,
    output wire            w_bank,
    output wire [AW-1:0]   w_addr,
    output wire            a_v,
    output wire            a_b,
    output wire [R*AW-1:0] a_addr,
    output wire [R-1:0]    a_en,
    input  wire            out_v,
    output wire            o_we,
    output wire [AW-1:0]   o_base,
    output wire [C-1:0]    o_mask,
    output wire            o_acc,
    output wire            done
);
    localparam [AW-1:0] NEVER = {AW{1'b1}};
    reg          run = 1'b0;
    reg [AW-1:0] now = 0;                    // cycle, for the bank-free times
    reg [SW-1:0] ring [0:3];
    integer      q;
    initial for (q = 0; q < 4; q = q + 1) ring[q] = {SW{1'b0}};
    reg [AW-1:0] bfree0 = 0, bfree1 = 0;     // first cycle a preload may start into the bank
    // Loader: fold nl, preload cycle li.
    reg          ld_busy = 1'b0, all_loaded = 1'b0;
    reg [AW-1:0] nl = 0, li = 0;
    // Streamer: fold sidx, step s (sG = s * G).
    reg          st_busy = 1'b0;
    reg [AW-1:0] sidx = 0, s = 0, sG = 0;
    // Drainer: fold nd, output row oc (ocNC = oc * NC).
    reg [AW-1:0] nd = 0, oc = 0, ocNC = 0;

    function [31:0] field(input [SW-1:0] e, input integer j);
        field = e[j*32 +: 32];
    endfunction

    // Streamer. It starts the next fold once that fold's commit edge has
    // passed (sidx < nl) and the previous fold's last step has entered.
    wire [SW-1:0] st_ent   = ring[sidx[1:0]];
    wire          st_start = !st_busy && (sidx < nl);
    wire          st_now   = st_busy || st_start;
    wire          st_last  = st_now && (s == field(st_ent, 6) - 1);
    assign a_v = st_now;
    assign a_b = sidx[0];
    genvar r, c;
    generate
        for (r = 0; r < R; r = r + 1) begin : g_feed
            wire [AW-1:0] k = field(st_ent, 2) + r;
            assign a_addr[r*AW +: AW] = sG + k / NN;   // the row's group of M
            assign a_en[r] = st_now && (r < field(st_ent, 4));
        end
    endgenerate

    // Loader. With C = 1 the bank is free in the very cycle the last step
    // of its old fold enters (PE(R-1,0) uses it R-1 cycles later, before
    // the commit edge R-1 cycles on), a cycle before bfree can say so: the
    // bypass keeps the controller exact there.
    wire          bypass   = (C == 1) && st_last && (sidx[0] == nl[0]);
    wire          bank_ok  = ((nl[0] ? bfree1 : bfree0) <= now) || bypass;
    wire          ld_start = (go || run) && !ld_busy && !all_loaded && bank_ok;
    wire          ld_now   = ld_busy || ld_start;
    wire [SW-1:0] ld_ent   = ld_busy ? ring[nl[1:0]] : sched_word;
    wire [AW-1:0] ld_i     = ld_busy ? li : {AW{1'b0}};
    assign sched_addr = nl;
    assign w_load   = ld_now;
    assign w_commit = ld_now && (ld_i == R - 1);
    assign w_bank   = nl[0];
    assign w_addr   = field(ld_ent, 1) + ld_i;

    // Drainer.
    wire [SW-1:0] dr_ent = ring[nd[1:0]];
    wire          dr_end = out_v && (oc == field(dr_ent, 6) - 1);
    assign done   = dr_end && dr_ent[0];
    assign o_we   = out_v;
    assign o_base = ocNC + field(dr_ent, 3);
    assign o_acc  = dr_ent[1];
    generate
        for (c = 0; c < C; c = c + 1) begin : g_mask
            assign o_mask[c] = c < field(dr_ent, 5);
        end
    endgenerate

    always @(posedge clk) begin
        now <= now + 1;
        if (go) run <= 1'b1;
        if (st_now) begin
            if (st_last) begin
                st_busy <= 1'b0;
                s       <= 0;
                sG      <= 0;
                sidx    <= sidx + 1;
                if (sidx[0]) bfree1 <= now + C - 1;
                else         bfree0 <= now + C - 1;
            end else begin
                st_busy <= 1'b1;
                s       <= s + 1;
                sG      <= sG + field(st_ent, 7);
            end
        end
        if (out_v) begin
            if (dr_end) begin
                nd   <= nd + 1;
                oc   <= 0;
                ocNC <= 0;
            end else begin
                oc   <= oc + 1;
                ocNC <= ocNC + field(dr_ent, 8);
            end
        end
        // After the streamer: with the C = 1 bypass a load start claims the
        // bank in the cycle the streamer frees it, and the claim must win.
        if (ld_start) begin
            ring[nl[1:0]] <= sched_word;
            if (nl[0]) bfree1 <= NEVER;
            else       bfree0 <= NEVER;
        end
        if (ld_now) begin
            if (ld_i == R - 1) begin
                ld_busy    <= 1'b0;
                li         <= 0;
                nl         <= nl + 1;
                all_loaded <= ld_ent[0];
            end else begin
                ld_busy <= 1'b1;
                li      <= ld_i + 1;
            end
        end
    end
endmodule
