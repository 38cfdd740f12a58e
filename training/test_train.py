"""edgerec_train/train.py's pieces that the engine relies on (run by scripts/test.sh)."""
import os
import sys
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from edgerec_train import train  # noqa: E402


class Trainer(unittest.TestCase):
    def test_every_prefix_encodes_what_the_exported_path_does(self):
        """Training reads every prefix at once; the engine runs `forward` on
        one session. With reversed positions and the last item's row, the
        two must agree at every step, or the bundle serves another model."""
        torch.manual_seed(0)
        for positions, last_item in ((20, True), (0, False)):
            enc = train.SessionEncoder(16, 12.0, 0.0, positions, last_item).eval()
            x = torch.randn(1, 7, 16)
            with torch.no_grad():
                if positions:
                    enc.pos.normal_()
                every = enc.every_prefix(x)
                for t in range(7):
                    one = enc(x[:, :t + 1])
                    torch.testing.assert_close(every[:, t], one, atol=1e-5, rtol=1e-5)

    def test_a_negative_that_is_the_target_is_masked_and_the_loss_stays_finite(self):
        torch.manual_seed(0)
        model = train.Model(50, 8, 12.0, 0.0, 20, True)
        seqs = torch.tensor([[3, 4, 5], [6, 7, 8]])
        mask = torch.ones(2, 2, dtype=torch.bool)
        negatives = torch.tensor([4, 9, 5, 8])  # 4, 5 and 8 are targets
        logits, labels = model(seqs, mask, negatives, torch.zeros(4))
        self.assertEqual(logits.shape, (4, 5))
        self.assertTrue((labels == 0).all(), "the target comes first")
        self.assertEqual(logits[0, 1].item(), train.MASKED_LOGIT, "row 0's target 4 is negative 0")
        self.assertEqual((logits == train.MASKED_LOGIT).sum().item(), 3)
        loss = torch.nn.CrossEntropyLoss(label_smoothing=0.1)(logits, labels)
        self.assertTrue(torch.isfinite(loss))
        loss.backward()
        self.assertTrue(all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None))


if __name__ == "__main__":
    unittest.main()
