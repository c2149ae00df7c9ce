// Dense weight-stationary systolic PE (the baseline): holds one weight,
// passes activations right and adds its product to the partial sum coming
// down. One cycle per hop (the skew the fold model counts: R + C - 2).
module sys_pe #(
    parameter W   = 8,
    parameter ACC = 32
) (
    input  wire           clk,
    input  wire           load_w,
    input  wire [W-1:0]   w_in,
    input  wire           in_valid,
    input  wire [W-1:0]   act_in,
    input  wire [ACC-1:0] psum_in,
    output reg  [W-1:0]   act_out,
    output reg  [ACC-1:0] psum_out,
    output reg            out_valid
);
    reg [W-1:0] weight = {W{1'b0}};
    wire signed [2*W-1:0] prod = $signed(weight) * $signed(act_in);
    always @(posedge clk) begin
        if (load_w) weight <= w_in;
        act_out   <= act_in;
        psum_out  <= psum_in + {{(ACC-2*W){prod[2*W-1]}}, prod};
        out_valid <= in_valid;
    end
endmodule
