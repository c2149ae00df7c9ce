// One quick-select pass of SpAtten's top-k engine over a beat of C
// candidates: C parallel comparators against the pivot, then zero
// eliminators (prefix sum + compaction) pack the > pivot and < pivot
// candidates, order preserved; equal ones are counted. Stages: compare,
// prefix sum, compact: latency 3 cycles, one beat per cycle, so a round
// over n candidates takes ceil(n/C) + 3 cycles (arch.TopKCycles).
module topk_pass #(
    parameter C  = 16,  // comparators
    parameter W  = 16,  // unsigned fixed-point scores
    parameter CW = 5    // count width, log2(C)+1
) (
    input  wire            clk,
    input  wire            in_valid,
    input  wire [C-1:0]    lane_valid,
    input  wire [C*W-1:0]  data,
    input  wire [W-1:0]    pivot,
    output reg  [C*W-1:0]  gt_data,
    output reg  [CW-1:0]   gt_count,
    output reg  [C*W-1:0]  lt_data,
    output reg  [CW-1:0]   lt_count,
    output reg  [CW-1:0]   eq_count,
    output reg             out_valid
);
    integer i;
    // Stage 1: compare.
    reg [C-1:0]   gt1, lt1;
    reg [C*W-1:0] d1;
    reg           v1;
    always @(posedge clk) begin
        for (i = 0; i < C; i = i + 1) begin
            gt1[i] <= lane_valid[i] && (data[i*W +: W] > pivot);
            lt1[i] <= lane_valid[i] && (data[i*W +: W] < pivot);
        end
        d1 <= data;
        v1 <= in_valid && 1'b1;
    end
    reg [C-1:0] eq1;
    always @(posedge clk)
        for (i = 0; i < C; i = i + 1)
            eq1[i] <= lane_valid[i] && (data[i*W +: W] == pivot);

    // Stage 2: exclusive prefix sums give each survivor its slot.
    reg [C*CW-1:0] gpos2, lpos2;
    reg [CW-1:0]   gcnt2, lcnt2, ecnt2;
    reg [C-1:0]    gt2, lt2;
    reg [C*W-1:0]  d2;
    reg            v2;
    reg [CW-1:0]   ga, la, ea;
    always @(posedge clk) begin
        ga = {CW{1'b0}};
        la = {CW{1'b0}};
        ea = {CW{1'b0}};
        for (i = 0; i < C; i = i + 1) begin
            gpos2[i*CW +: CW] <= ga;
            lpos2[i*CW +: CW] <= la;
            ga = ga + gt1[i];
            la = la + lt1[i];
            ea = ea + eq1[i];
        end
        gcnt2 <= ga;
        lcnt2 <= la;
        ecnt2 <= ea;
        gt2 <= gt1;
        lt2 <= lt1;
        d2  <= d1;
        v2  <= v1;
    end

    // Stage 3: zero eliminators compact the two streams.
    reg [C*W-1:0] gd_c, ld_c;
    always @* begin
        gd_c = {C*W{1'b0}};
        ld_c = {C*W{1'b0}};
        for (i = 0; i < C; i = i + 1) begin
            if (gt2[i]) gd_c[gpos2[i*CW +: CW]*W +: W] = d2[i*W +: W];
            if (lt2[i]) ld_c[lpos2[i*CW +: CW]*W +: W] = d2[i*W +: W];
        end
    end
    always @(posedge clk) begin
        gt_data   <= gd_c;
        lt_data   <= ld_c;
        gt_count  <= gcnt2;
        lt_count  <= lcnt2;
        eq_count  <= ecnt2;
        out_valid <= v2;
    end
endmodule
