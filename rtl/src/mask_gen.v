// N:M mask generator: keeps the N largest |w| of a group of M signed
// weights (ties: the lower index wins, as workloads/nm.Prune) and outputs
// the keep mask and the kept weights with their indices in increasing index
// order (the compressed format's slot order).
// Stage 1 compares every pair of magnitudes (M(M-1)/2 comparators) and
// ranks each weight; stage 2 selects and packs. Latency 2 cycles, one group
// per cycle per lane (arch.MaskGenLatency).
module mask_gen #(
    parameter N  = 2,
    parameter M  = 4,
    parameter W  = 8,
    parameter IW = 2
) (
    input  wire            clk,
    input  wire            in_valid,
    input  wire [M*W-1:0]  w,
    output reg  [M-1:0]    mask,
    output reg  [N*W-1:0]  kval,
    output reg  [N*IW-1:0] kidx,
    output reg             out_valid
);
    function [W:0] mag;
        input [W-1:0] x;
        mag = x[W-1] ? ({1'b0, ~x} + 1'b1) : {1'b0, x};
    endfunction

    // Stage 1: rank = how many weights beat this one.
    reg [M-1:0]   keep_c;
    reg [M*W-1:0] w1;
    reg           v1;
    integer i, j, rank;
    always @* begin
        for (i = 0; i < M; i = i + 1) begin
            rank = 0;
            for (j = 0; j < M; j = j + 1)
                if (j != i && (mag(w[j*W +: W]) > mag(w[i*W +: W]) ||
                               (mag(w[j*W +: W]) == mag(w[i*W +: W]) && j < i)))
                    rank = rank + 1;
            keep_c[i] = (rank < N);
        end
    end
    reg [M-1:0] m1;
    always @(posedge clk) begin
        m1 <= keep_c;
        w1 <= w;
        v1 <= in_valid;
    end

    // Stage 2: pack the kept weights in index order.
    reg [N*W-1:0]  kval_c;
    reg [N*IW-1:0] kidx_c;
    integer k;
    always @* begin
        kval_c = {N*W{1'b0}};
        kidx_c = {N*IW{1'b0}};
        k = 0;
        for (i = 0; i < M; i = i + 1)
            if (m1[i] && k < N) begin
                kval_c[k*W +: W]   = w1[i*W +: W];
                kidx_c[k*IW +: IW] = i[IW-1:0];
                k = k + 1;
            end
    end
    always @(posedge clk) begin
        mask      <= m1;
        kval      <= kval_c;
        kidx      <= kidx_c;
        out_valid <= v1;
    end
endmodule
