`timescale 1ns/1ps
// Co-simulation bench of the weight-stationary array: ideal memories
// (combinational reads, any number of ports) loaded from the images Go
// writes, the fold controller and the array. Sizes come in as plusargs so
// one build serves every GEMM that fits the memory depths.
// Prints "CYCLES n" (the cycle index in which the last output leaves the
// array and is written) and writes out.hex; "TIMEOUT" past +limit cycles.
// WB = 1 is the single-register array with sa_ctrl; WB = 2 the
// shadow-weight array with sa_ctrl_db.
module sa_tb;
    parameter R = 4, C = 4, M = 1, NN = 1, W = 8, IW = 1, ACC = 32, WB = 1;
    parameter SD = 64, WD = 1024, AD = 1024, OD = 1024;
    localparam AW = 32, SW = 9 * 32, WW = W + ((M > 1) ? IW : 0);
    reg clk = 1'b0;
    always #5 clk = ~clk;
    reg [SW-1:0]   sched [0:SD-1];
    reg [C*WW-1:0] wmem  [0:WD-1];
    reg [M*W-1:0]  amem  [0:AD-1];
    reg [ACC-1:0]  omem  [0:OD-1];
    integer ns = 0, nw = 0, na = 0, no = 0, limit = 0, cyc = 0, j;
    reg finish = 1'b0;
    initial begin
        if (!$value$plusargs("ns=%d", ns) || !$value$plusargs("nw=%d", nw) || !$value$plusargs("na=%d", na) ||
            !$value$plusargs("no=%d", no) || !$value$plusargs("limit=%d", limit)) begin
            $display("ERROR need +ns +nw +na +no +limit");
            $finish;
        end
        $readmemh("sched.hex", sched, 0, ns - 1);
        $readmemh("w.hex", wmem, 0, nw - 1);
        $readmemh("a.hex", amem, 0, na - 1);
    end

    wire [AW-1:0]   sched_addr, w_addr, o_base;
    wire [R*AW-1:0] a_addr;
    wire [R-1:0]    a_en;
    wire [C-1:0]    o_mask;
    wire            w_load, w_commit, w_bank, a_v, a_b, out_v, o_we, o_acc, done;
    wire [R*M*W-1:0] a_left;
    wire [C*ACC-1:0] out_p;
    genvar r;
    generate
        for (r = 0; r < R; r = r + 1) begin : g_rd
            assign a_left[r*M*W +: M*W] = a_en[r] ? amem[a_addr[r*AW +: AW]] : {M*W{1'b0}};
        end
    endgenerate
    generate
        if (WB == 2) begin : g_db
            sa_ctrl_db #(.R(R), .C(C), .NN(NN), .AW(AW), .SW(SW)) ctrl (
                .clk(clk), .go(1'b1), .sched_addr(sched_addr), .sched_word(sched[sched_addr]),
                .w_load(w_load), .w_commit(w_commit), .w_bank(w_bank), .w_addr(w_addr),
                .a_v(a_v), .a_b(a_b), .a_addr(a_addr), .a_en(a_en),
                .out_v(out_v), .o_we(o_we), .o_base(o_base), .o_mask(o_mask), .o_acc(o_acc), .done(done));
        end else begin : g_single
            assign w_commit = 1'b0;
            assign w_bank   = 1'b0;
            assign a_b      = 1'b0;
            sa_ctrl #(.R(R), .C(C), .NN(NN), .AW(AW), .SW(SW)) ctrl (
                .clk(clk), .go(1'b1), .sched_addr(sched_addr), .sched_word(sched[sched_addr]),
                .w_load(w_load), .w_addr(w_addr), .a_v(a_v), .a_addr(a_addr), .a_en(a_en),
                .out_v(out_v), .o_we(o_we), .o_base(o_base), .o_mask(o_mask), .o_acc(o_acc), .done(done));
        end
    endgenerate
    sa_array #(.R(R), .C(C), .M(M), .W(W), .IW(IW), .ACC(ACC), .WB(WB)) array (
        .clk(clk), .w_load(w_load), .w_commit(w_commit), .w_bank(w_bank), .w_top(wmem[w_addr]),
        .a_v(a_v), .a_b(a_b), .a_left(a_left), .out_v(out_v), .out_p(out_p));

    always @(posedge clk) begin
        cyc <= cyc + 1;
        if (o_we)
            for (j = 0; j < C; j = j + 1)
                if (o_mask[j]) omem[o_base + j] <= (o_acc ? omem[o_base + j] : {ACC{1'b0}}) + out_p[j*ACC +: ACC];
        if (done) begin
            $display("CYCLES %0d", cyc);
            finish <= 1'b1;
        end
        if (finish) begin
            $writememh("out.hex", omem, 0, no - 1);
            $finish;
        end
        if (cyc > limit) begin
            $display("TIMEOUT after %0d cycles", cyc);
            $finish;
        end
    end
endmodule
