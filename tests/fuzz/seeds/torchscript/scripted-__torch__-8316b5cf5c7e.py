class SmallNet(Module):
  __parameters__ = []
  __buffers__ = ["scale", ]
  scale : Tensor
  training : bool
  _is_full_backward_hook : Optional[bool]
  conv : __torch__.torch.nn.modules.conv.Conv2d
  bn : __torch__.torch.nn.modules.batchnorm.BatchNorm2d
  relu : __torch__.torch.nn.modules.activation.ReLU
  pool : __torch__.torch.nn.modules.pooling.AdaptiveAvgPool2d
  flatten : __torch__.torch.nn.modules.flatten.Flatten
  fc : __torch__.torch.nn.modules.linear.Linear
  def forward(self: __torch__.SmallNet,
    x: Tensor) -> Tensor:
    pool = self.pool
    relu = self.relu
    bn = self.bn
    conv = self.conv
    _0 = (relu).forward((bn).forward((conv).forward(x, ), ), )
    x0 = (pool).forward(_0, )
    fc = self.fc
    flatten = self.flatten
    _1 = (fc).forward((flatten).forward(x0, ), )
    scale = self.scale
    return torch.mul(_1, scale)
